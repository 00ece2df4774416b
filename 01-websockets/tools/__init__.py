"""The lesson's rig: a chat client, an in-process server, the bench's load generator, the CLI
parser. None of it is the chat server; `chat/` never imports it."""
