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
	if (err != VMS_OK)
		vms_conn_exec(&st->writer, VMS_ST_ROLLBACK);
	pthread_mutex_unlock(&st->wlock);
	return err;
}
