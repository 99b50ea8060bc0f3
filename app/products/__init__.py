"""Products (GTINs), batches (lots), label orders and serialised unit codes."""
