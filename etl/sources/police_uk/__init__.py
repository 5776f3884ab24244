"""data.police.uk files, exactly as downloaded: street-level crime, outcomes (and the file
reader they share, reader.py). The source is declared in source.py."""
