"""Pure domain logic: no storage, HTTP or provider imports."""
