# fake cloud
