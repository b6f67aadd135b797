/* vmscope error codes shared by every layer.
 *
 * Contract: functions return 0 (VMS_OK) or a positive enum vms_err; results go in out-parameters.
 * ENOENT/ESRCH from /proc map to VMS_ERR_NO_SUCH_PROCESS / VMS_ERR_EXITED, EACCES/EPERM to
 * VMS_ERR_PERMISSION. Libraries never print and never exit. */
#ifndef VMSCOPE_ERROR_H
#define VMSCOPE_ERROR_H

enum vms_err {
	VMS_OK = 0,
	VMS_ERR_NO_SUCH_PROCESS,  /* pid does not exist (never existed or reaped before we opened it) */
	VMS_ERR_EXITED,           /* process exited (or exec'd) while we were reading it */
	VMS_ERR_PERMISSION,       /* no ptrace-read right on the process (EACCES/EPERM) */
	VMS_ERR_NO_ADDRESS_SPACE, /* kernel thread or zombie: nothing to scan */
	VMS_ERR_NOMEM,            /* allocation failed */
	VMS_ERR_IO,               /* unexpected read error (errno kept by the caller if it matters) */
	VMS_ERR_INVALID,          /* bad argument or malformed input (JSON, address, id) */
	VMS_ERR_AMBIGUOUS,        /* a process name matched several processes */
	VMS_ERR_NOT_FOUND,        /* a stored object (snapshot, share token) does not exist */
	VMS_ERR_UNSUPPORTED,      /* unknown/newer format version or schema */
	VMS_ERR_FULL,             /* store retention limit reached */
	VMS_ERR_COUNT
};

/* Human sentence for an error code; static storage, never NULL. */
const char *vms_strerror(int err);
/* snake_case machine code ("no_such_process", ...); static storage, never NULL. */
const char *vms_err_code(int err);

#endif
