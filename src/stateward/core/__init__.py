"""Pure logic: no database, network, clock or environment access happens here."""
