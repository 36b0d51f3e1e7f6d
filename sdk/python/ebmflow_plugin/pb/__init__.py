"""Generated protocol buffer messages (scripts/genproto.sh); do not edit."""
