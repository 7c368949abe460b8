# contrib: systemd units, examples, man pages
