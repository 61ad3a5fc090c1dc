"""The passport in the formats buyers' systems read: UNTP credentials (W3C VC 2.0, VC-JOSE)."""
