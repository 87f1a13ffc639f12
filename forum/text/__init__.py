"""Everything that turns member-written text into HTML lives here."""
