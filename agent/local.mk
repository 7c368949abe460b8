# The lbreconcile binary.
bin_PROGRAMS += lbreconcile
lbreconcile_SOURCES = %D%/main.c
