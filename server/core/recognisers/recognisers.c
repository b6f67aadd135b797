/* The recogniser table (order and list: recognisers.def). */
#include "../attribute.h"

#define REC(name) extern const struct vms_recogniser vms_rec_##name;
#include "recognisers.def"
#undef REC

#define REC(name) &vms_rec_##name,
const struct vms_recogniser *const vms_recognisers[] = {
#include "recognisers.def"
};
#undef REC

const size_t vms_n_recognisers = sizeof vms_recognisers / sizeof vms_recognisers[0];
