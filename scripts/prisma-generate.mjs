// placeholder, replaced by the db helper
