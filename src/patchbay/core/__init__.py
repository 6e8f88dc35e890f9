"""The shared core every service client is built on."""
