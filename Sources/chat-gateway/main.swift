import ChatGateway

await ChatGatewayEntrypoint.run()
