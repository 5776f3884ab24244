"""Controls and building blocks shared by the pages."""
