/*
 * liveenv: the environment another process has now, as its C library's
 * environ array holds it: one NAME=value per line.
 *
 * Usage: liveenv PID
 * /proc/PID/environ is not that: it shows the strings the process was
 * started with, and unsetenv(3) only takes pointers out of the array, so
 * a variable unset long ago is still listed there.  liveenv finds the
 * object that defines environ in /proc/PID/maps (the executable, when a
 * copy relocation put it there, else a library: the C library), looks
 * the symbol up in that file's ELF dynamic symbol table, and reads the
 * array and its strings through /proc/PID/mem.  Needs the right to
 * ptrace PID (same user, and root or its parent under Yama).  Exit 1 when
 * any step fails, so that an empty answer never passes for "no variable".
 */
#include <sys/types.h>

#include <elf.h>
#include <err.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_OBJS	256
#define MAX_VARS	100000
#define MAX_VARLEN	(1024 * 1024)
#define CHUNK		256

/* A file mapped into the process, and where its first page went. */
struct obj {
	char		path[PATH_MAX];
	uintptr_t	base;		/* start of the mapping at offset 0 */
	int		have_base;
};

static int
add_map(struct obj *objs, int n, const char *path, uintptr_t start,
    unsigned long long off)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(objs[i].path, path) == 0)
			break;
	if (i == n) {
		if (n == MAX_OBJS)
			return n;
		(void)snprintf(objs[n].path, sizeof(objs[n].path), "%s", path);
		objs[n].have_base = 0;
		n++;
	}
	if (off == 0 && (!objs[i].have_base || start < objs[i].base)) {
		objs[i].base = start;
		objs[i].have_base = 1;
	}
	return n;
}

/* The files mapped into pid, in the order the maps list them. */
static int
read_maps(pid_t pid, struct obj *objs)
{
	char name[64], line[PATH_MAX + 128], path[PATH_MAX];
	unsigned long long start, off;
	FILE *f;
	int n = 0;

	(void)snprintf(name, sizeof(name), "/proc/%ld/maps", (long)pid);
	if ((f = fopen(name, "r")) == NULL)
		err(1, "%s", name);
	while (fgets(line, sizeof(line), f) != NULL) {
		path[0] = '\0';
		if (sscanf(line, "%llx-%*x %*s %llx %*s %*s %4095s", &start,
		    &off, path) != 3 || path[0] != '/')
			continue;
		n = add_map(objs, n, path, (uintptr_t)start, off);
	}
	(void)fclose(f);
	return n;
}

static void *
read_at(int fd, size_t off, size_t len)
{
	void *p;

	if (len == 0 || (p = malloc(len)) == NULL)
		return NULL;
	if (pread(fd, p, len, (off_t)off) != (ssize_t)len) {
		free(p);
		return NULL;
	}
	return p;
}

/* The lowest p_vaddr of a PT_LOAD segment, rounded down to a page. */
static int
first_load(int fd, const ElfW(Ehdr) *eh, uintptr_t *vaddr)
{
	ElfW(Phdr) *ph;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	int i, found = 0;

	*vaddr = 0;

	ph = read_at(fd, eh->e_phoff, (size_t)eh->e_phnum * sizeof(*ph));
	if (ph == NULL)
		return -1;
	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD &&
		    (!found || ph[i].p_vaddr < *vaddr)) {
			*vaddr = ph[i].p_vaddr;
			found = 1;
		}
	free(ph);
	*vaddr &= ~(page - 1);
	return found ? 0 : -1;
}

/* st_value of a defined environ in the file's .dynsym, 0 if none. */
static uintptr_t
find_environ(int fd, const ElfW(Ehdr) *eh)
{
	ElfW(Shdr) *sh;
	ElfW(Sym) *sym = NULL;
	char *str = NULL;
	uintptr_t val = 0;
	size_t i, nsym;
	int s;

	if (eh->e_shentsize != sizeof(*sh))
		return 0;
	sh = read_at(fd, eh->e_shoff, (size_t)eh->e_shnum * sizeof(*sh));
	if (sh == NULL)
		return 0;
	for (s = 0; s < eh->e_shnum && val == 0; s++) {
		if (sh[s].sh_type != SHT_DYNSYM || sh[s].sh_link >= eh->e_shnum)
			continue;
		sym = read_at(fd, sh[s].sh_offset, sh[s].sh_size);
		str = read_at(fd, sh[sh[s].sh_link].sh_offset,
		    sh[sh[s].sh_link].sh_size);
		nsym = sh[s].sh_size / sizeof(*sym);
		for (i = 0; sym != NULL && str != NULL && i < nsym; i++) {
			if (sym[i].st_shndx == SHN_UNDEF || sym[i].st_name >=
			    sh[sh[s].sh_link].sh_size)
				continue;
			if (strcmp(str + sym[i].st_name, "environ") == 0 ||
			    strcmp(str + sym[i].st_name, "__environ") == 0) {
				val = sym[i].st_value;
				break;
			}
		}
		free(sym);
		free(str);
	}
	free(sh);
	return val;
}

/* The address of environ in the process if o defines it, else 0. */
static uintptr_t
environ_in(const struct obj *o)
{
	ElfW(Ehdr) eh;
	uintptr_t val, vaddr, addr = 0;
	int fd;

	if (!o->have_base || (fd = open(o->path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if (pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) &&
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	    eh.e_ident[EI_CLASS] == (sizeof(void *) == 8 ? ELFCLASS64 :
	    ELFCLASS32) && (val = find_environ(fd, &eh)) != 0) {
		if (eh.e_type == ET_EXEC)
			addr = val;
		else if (first_load(fd, &eh, &vaddr) == 0)
			addr = o->base - vaddr + val;
	}
	(void)close(fd);
	return addr;
}

/*
 * Where environ lives: a definition in the executable wins (that is
 * where a copy relocation moves it), then the libraries in map order.
 */
static uintptr_t
locate(pid_t pid)
{
	static struct obj objs[MAX_OBJS];
	char name[64], exe[PATH_MAX];
	ssize_t len;
	uintptr_t addr;
	int i, n;

	n = read_maps(pid, objs);
	(void)snprintf(name, sizeof(name), "/proc/%ld/exe", (long)pid);
	if ((len = readlink(name, exe, sizeof(exe) - 1)) == -1)
		err(1, "%s", name);
	exe[len] = '\0';
	for (i = 0; i < n; i++)
		if (strcmp(objs[i].path, exe) == 0 &&
		    (addr = environ_in(&objs[i])) != 0)
			return addr;
	for (i = 0; i < n; i++)
		if (strcmp(objs[i].path, exe) != 0 &&
		    (addr = environ_in(&objs[i])) != 0)
			return addr;
	errx(1, "no object mapped into %ld defines environ", (long)pid);
}

static uintptr_t
read_ptr(int mem, uintptr_t addr)
{
	uintptr_t v;

	if (pread(mem, &v, sizeof(v), (off_t)addr) != (ssize_t)sizeof(v))
		err(1, "read %#lx", (unsigned long)addr);
	return v;
}

/* Print the NUL-terminated string at addr and a newline. */
static void
print_str(int mem, uintptr_t addr)
{
	char buf[CHUNK];
	size_t done = 0, len;
	ssize_t n;

	while (done < MAX_VARLEN) {
		/* Aligned chunks: a read never crosses into an unmapped page. */
		n = pread(mem, buf, CHUNK - (addr + done) % CHUNK,
		    (off_t)(addr + done));
		if (n <= 0)
			err(1, "read %#lx", (unsigned long)(addr + done));
		len = strnlen(buf, (size_t)n);
		fwrite(buf, 1, len, stdout);
		if (len < (size_t)n)
			break;
		done += (size_t)n;
	}
	putchar('\n');
}

int
main(int argc, char **argv)
{
	char name[64];
	uintptr_t env, p;
	pid_t pid;
	int mem, i;

	if (argc != 2 || (pid = (pid_t)atol(argv[1])) <= 0) {
		fprintf(stderr, "usage: liveenv pid\n");
		return 2;
	}
	(void)snprintf(name, sizeof(name), "/proc/%ld/mem", (long)pid);
	if ((mem = open(name, O_RDONLY | O_CLOEXEC)) == -1)
		err(1, "%s", name);
	env = read_ptr(mem, locate(pid));
	if (env == 0)
		errx(1, "environ is NULL in %ld", (long)pid);
	for (i = 0; i < MAX_VARS && (p = read_ptr(mem, env + (uintptr_t)i *
	    sizeof(p))) != 0; i++)
		print_str(mem, p);
	if (fflush(stdout) == EOF)
		err(1, "stdout");
	return 0;
}
