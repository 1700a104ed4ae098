// MuJoCo 2.2.x physics (Debian: libmujoco-dev). No pkg-config file: <mujoco/mujoco.h> is on the default path.
#ifndef STITCH_CMUJOCO_SHIM_H
#define STITCH_CMUJOCO_SHIM_H
#include <mujoco/mujoco.h>
#endif
