"""Model providers behind one interface: `Provider.complete(...) -> ModelReply`."""
