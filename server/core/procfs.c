#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int vms_procfs_read(int dirfd, const char *name, struct vms_buf *b)
{
	return vms_buf_read_file(dirfd, name, 0, b);
}

int vms_procfs_open_dir(pid_t pid)
{
	char dir[32];
	snprintf(dir, sizeof dir, "/proc/%d", (int)pid);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

int vms_procfs_err(int err, int dir_opened)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case ENOENT:
		return dir_opened ? VMS_ERR_EXITED : VMS_ERR_NO_SUCH_PROCESS;
	case ESRCH:
		return VMS_ERR_EXITED;
	case EACCES:
	case EPERM:
		return VMS_ERR_PERMISSION;
	case ENOMEM:
		return VMS_ERR_NOMEM;
	default:
		return VMS_ERR_IO;
	}
}

/* The unsigned 64-bit fields of /proc/PID/stat we keep: field number (proc(5), 1-based) and
 * where it goes in struct vms_stat. */
static const struct {
	int field;
	size_t off;
} stat_u64[] = {
    {10, offsetof(struct vms_stat, min_flt)},     {12, offsetof(struct vms_stat, maj_flt)},
    {22, offsetof(struct vms_stat, start_time)},  {26, offsetof(struct vms_stat, start_code)},
    {28, offsetof(struct vms_stat, start_stack)},
};

int vms_stat_parse(const char *buf, size_t len, struct vms_stat *st)
{
	memset(st, 0, sizeof *st);
	const char *open = memchr(buf, '(', len);
	const char *close_p = NULL;
	for (const char *p = buf + len; p > buf; p--)
		if (p[-1] == ')') {
			close_p = p - 1;
			break;
		}
	if (!open || !close_p || close_p < open)
		return -1;
	size_t n = (size_t)(close_p - open - 1);
	if (n >= sizeof st->comm)
		n = sizeof st->comm - 1;
	memcpy(st->comm, open + 1, n);
	st->comm[n] = '\0';
	/* fields after ") ": 3 state, 4 ppid, ..., 20 num_threads, 22 starttime, 26 startcode,
	 * 28 startstack */
	const char *p = close_p + 1, *end = buf + len;
	int field = 2;
	while (p < end && field < 28) {
		while (p < end && *p == ' ')
			p++;
		field++;
		const char *tok = p;
		while (p < end && *p != ' ' && *p != '\n')
			p++;
		if (p == tok) {
			if (field > 22)
				break; /* older/odd kernels: the fields we need are there */
			return -1;     /* truncated line: fewer than 22 fields */
		}
		if (field == 3)
			st->state = *tok;
		else if (field == 4)
			st->ppid = (pid_t)strtol(tok, NULL, 10);
		else if (field == 20)
			st->threads = (int)strtol(tok, NULL, 10);
		else
			for (size_t k = 0; k < sizeof stat_u64 / sizeof *stat_u64; k++)
				if (stat_u64[k].field == field)
					*(uint64_t *)((char *)st + stat_u64[k].off) = strtoull(tok, NULL, 10);
	}
	return field >= 22 ? 0 : -1;
}

char *vms_cmdline_join(const char *buf, size_t len)
{
	while (len && buf[len - 1] == '\0')
		len--;
	char *s = malloc(len + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < len; i++)
		s[i] = buf[i] ? buf[i] : ' ';
	s[len] = '\0';
	return s;
}

long vms_status_uid(const char *buf, size_t len)
{
	const char *p = memmem(buf, len, "\nUid:", 5);
	if (!p)
		return -1;
	return strtol(p + 5, NULL, 10);
}

void vms_user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	if (getpwuid_r(uid, &pw, tmp, sizeof tmp, &res) == 0 && res)
		snprintf(buf, len, "%s", res->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)uid);
}

/* e_machine values (<elf.h> EM_*) and their names for 32- and 64-bit executables. */
static const struct machine {
	unsigned em;
	const char *name32, *name64;
} machines[] = {
    {3, "i386", "i386"},         {62, "x32", "x86_64"}, {40, "arm", "arm"},     {183, "aarch64", "aarch64"},
    {243, "riscv32", "riscv64"}, {8, "mips", "mips"},   {21, "ppc64", "ppc64"}, {22, "s390", "s390"},
};

/* The name of e_machine em for an executable of bits (32 or 64; anything else counts as 64),
 * or "unknown". Static storage. */
static const char *machine_name(unsigned em, int bits)
{
	for (size_t i = 0; i < sizeof machines / sizeof *machines; i++)
		if (machines[i].em == em)
			return bits == 32 ? machines[i].name32 : machines[i].name64;
	return "unknown";
}

void vms_exe_arch(int dirfd, struct vms_arch *out)
{
	unsigned char h[20];
	out->bits = 0;
	out->machine = "unknown";
	int fd = openat(dirfd, "exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = pread(fd, h, sizeof h, 0);
	close(fd);
	if (n != (ssize_t)sizeof h || memcmp(h,
	                                     "\x7f"
	                                     "ELF",
	                                     4))
		return;
	unsigned machine = h[5] == 2 ? (unsigned)(h[18] << 8 | h[19]) : (unsigned)(h[19] << 8 | h[18]);
	out->bits = h[4] == 1 ? 32 : h[4] == 2 ? 64 : 0;
	out->machine = machine_name(machine, out->bits);
}

static pthread_once_t shmem_once = PTHREAD_ONCE_INIT;
static unsigned shmem_major, shmem_minor = ~0u;
static uint64_t min_addr = 65536;

static void probe_once(void)
{
	int fd = memfd_create("vmscope-probe", MFD_CLOEXEC);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0) {
		shmem_major = major(st.st_dev);
		shmem_minor = minor(st.st_dev);
	}
	if (fd >= 0)
		close(fd);
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "re");
	if (f) {
		unsigned long long v;
		if (fscanf(f, "%llu", &v) == 1)
			min_addr = v;
		fclose(f);
	}
}

void vms_shmem_dev(unsigned *maj, unsigned *min)
{
	pthread_once(&shmem_once, probe_once);
	*maj = shmem_major;
	*min = shmem_minor;
}

uint64_t vms_mmap_min_addr(void)
{
	pthread_once(&shmem_once, probe_once);
	return min_addr;
}

uint64_t vms_user_top(const struct vms_arch *arch, uint64_t highest_end)
{
	uint64_t top;
	if (arch->bits == 32)
		top = 1ull << 32;
	else if (!strcmp(arch->machine, "x86_64"))
		top = 0x7ffffffff000ull; /* 4-level paging TASK_SIZE_MAX */
	else
		top = 1ull << 48;
	if (highest_end > top && !strcmp(arch->machine, "x86_64") && highest_end <= 0x00fffffffffff000ull)
		return 0x00fffffffffff000ull; /* 5-level paging (LA57) TASK_SIZE_MAX */
	if (highest_end > top) {              /* larger VA elsewhere: round up to a power of two */
		top = 1;
		while (top < highest_end && top < (1ull << 63))
			top <<= 1;
	}
	return top;
}

void vms_arch_from_regions(struct vms_snapshot *s)
{
	int low = 1;
	for (size_t i = 0; i < s->n_regions; i++)
		if (s->regions[i].end > (1ull << 32))
			low = 0;
	s->arch.bits = low ? 32 : 64;
}

void vms_user_top_from_regions(struct vms_snapshot *s)
{
	uint64_t highest = 0;
	for (size_t i = 0; i < s->n_regions; i++)
		if (!(s->regions[i].path && !strcmp(s->regions[i].path, "[vsyscall]")))
			highest = s->regions[i].end;
	s->user_top = vms_user_top(&s->arch, highest);
}

int64_t vms_boot_time(void)
{
	int64_t bt = 0;
	FILE *f = fopen("/proc/stat", "re");
	if (!f)
		return 0;
	char line[256];
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "btime ", 6)) {
			bt = strtoll(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return bt;
}

long vms_clock_ticks(void)
{
	long t = sysconf(_SC_CLK_TCK);
	return t > 0 ? t : 100;
}
