/* placeholder, being written */
#include "plum.h"
