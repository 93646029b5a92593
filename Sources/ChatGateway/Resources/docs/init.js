// Kept out of index.html so the page works under a Content-Security-Policy without inline script.
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
