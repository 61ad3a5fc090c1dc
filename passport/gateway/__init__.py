"""The telemetry gateway at a mine site: device-signed readings in over MQTT and HTTP, kept
durably (acknowledged only once committed), anchored on-chain a window at a time."""
