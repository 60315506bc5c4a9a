"""How bytes move: the only package that performs HTTP I/O."""
