#ifndef TLSSCOPE_ALLOCATOR_SETTINGS_H
#define TLSSCOPE_ALLOCATOR_SETTINGS_H
// jemalloc's options for the tlsscope binary (see allocator_settings.c).
extern const char *malloc_conf;
#endif
