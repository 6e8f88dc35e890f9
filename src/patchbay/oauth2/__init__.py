"""OAuth2 connections: provider configuration, stored tokens and their refresh."""
