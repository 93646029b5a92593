"""What the Python steps of postgres-replicas.sh share: their arguments (replica A's, replica B's and the fake Dify's
ports, then the database's URL), the client key, and a query on the database."""
import subprocess
import sys

port_a, port_b, fake_port = (int(p) for p in sys.argv[1:4])
database_url = sys.argv[4]
key = [("X-API-Key", "e2e-key")]


def psql(query):
    """The query's output, without surrounding whitespace (close a value that may end in a space with a marker)."""
    return subprocess.run(["psql", database_url, "-qtAX", "-c", query], check=True, capture_output=True,
                          text=True).stdout.strip()
