import TLSWire
// PLACEHOLDER
