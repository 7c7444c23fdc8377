"""Shared runtime of the reels services: config, auth, interceptors, server, event bus."""
