/* Private to the json layer: UTF-8 checks, escaping of untrusted names for human-readable
 * output, and timestamp formatting, shared by the JSON, CSV and text exporters. */
#ifndef VMSCOPE_JSON_TEXTUTIL_H
#define VMSCOPE_JSON_TEXTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* Length (1..4) of the well-formed UTF-8 sequence at s[0..n), or 0 when s[0] does not start
 * one (stray continuation byte, overlong form, surrogate, > U+10FFFF, truncated). n > 0. */
size_t vms_utf8_seq_len(const unsigned char *s, size_t n);

/* 1 when the NUL-terminated s is well-formed UTF-8. */
int vms_utf8_valid(const char *s);

/* malloc'd copy of s with every byte that is not part of a well-formed UTF-8 sequence
 * replaced by U+FFFD; NULL on ENOMEM. JSON must be UTF-8, file names need not be. */
char *vms_utf8_repair(const char *s);

/* Append s (NULL appends nothing) so that it cannot break a line-oriented report or drive a
 * terminal: backslash -> "\\", newline -> "\n", tab -> "\t", CR -> "\r", other C0 bytes and
 * DEL -> "\xNN", bytes that are not well-formed UTF-8 -> "\xNN", C1 controls and bidi
 * overrides (U+0080..U+009F, U+061C, U+200E/F, U+202A..U+202E, U+2066..U+2069) -> "\uNNNN".
 * Everything else (printable ASCII and other UTF-8) is copied. */
void vms_sb_put_escaped(struct vms_sb *sb, const char *s);

/* vms_format_time_ms (ISO 8601 time) is in vmscope/util.h, shared with the daemon. */
#include "vmscope/util.h"

struct vms_snapshot;
struct vms_allocation;
/* The distinct perms of an allocation's regions in order, joined by '/' ("r--p/r-xp/rw-p"),
 * into buf (truncated to size). */
void vms_alloc_protection(const struct vms_snapshot *s, const struct vms_allocation *a, char *buf,
                          size_t size);

/* bytes in human units into buf, as the dashboard writes them: "512 B", "4 KiB", "12.5 MiB",
 * "128 TiB" (three significant digits; below 100 one decimal, ".0" left out). */
void vms_fmt_human(uint64_t bytes, char *buf, size_t size);

/* The relation of the snapshot's Total WS to ps's RSS, as one sentence into buf (no newline):
 * "Total WS 3816 KiB = ps RSS 3732 KiB (VmRSS) + page tables 84 KiB (VmPTE, the Page Table
 * row)" when they add up; otherwise says that VmRSS was read a moment apart, or (a snapshot
 * without VmRSS) only that Total WS includes the page tables. human: sizes as vms_fmt_human,
 * else KiB. */
void vms_ws_relation(const struct vms_snapshot *s, int human, char *buf, size_t size);

#endif
