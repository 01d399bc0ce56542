"""A complaint's evidence bundle as a download (docs/complaints.md, "Evidence bundle"), and the
console's reads of complaints: who sees a case is decided here, once."""
