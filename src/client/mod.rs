//! The console's connection to the broker: websocket feed with reconnect and resume, and HTTP calls.
