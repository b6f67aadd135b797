/* The writer's transactions: every write takes the writer lock, begins an immediate
 * transaction, and ends by committing or rolling back and releasing the lock. */
#include "store_internal.h"

int vms_store_write_begin(struct vms_store *st)
{
	pthread_mutex_lock(&st->wlock);
	int err = vms_conn_exec(&st->writer, VMS_ST_BEGIN_IMMEDIATE);
	if (err != VMS_OK)
		pthread_mutex_unlock(&st->wlock);
	return err;
}

int vms_store_write_end(struct vms_store *st, int err)
{
	if (err == VMS_OK)
		err = vms_conn_exec(&st->writer, VMS_ST_COMMIT);
	/* Out of disk space (most often noticed by the COMMIT that writes the WAL): the answer is
	 * VMS_ERR_FULL and the store remembers why (vms_store_disk_full), as for snapshots. */
	if ((err == VMS_ERR_IO || err == VMS_ERR_FULL) && vms_store_note_disk_full(st))
		err = VMS_ERR_FULL;
	if (err != VMS_OK)
		vms_conn_exec(&st->writer, VMS_ST_ROLLBACK);
	else if (__atomic_exchange_n(&st->disk_full, 0, __ATOMIC_RELAXED))
		vms_store_reserve_take(st); /* room again: take the reserve back */
	pthread_mutex_unlock(&st->wlock);
	return err;
}
