#pragma once
// Named crash points for the crash tests (tests/projector_crash_test.cc): with
// DAYBOOK_CRASH_AT=<name>:<n> in the environment, the n-th time the process passes crash point
// <name> it SIGKILLs itself there, as a power cut would stop it. Unset (always, outside tests):
// one branch on a cached flag.
//
// The projector's points: after_poll (a record was read, nothing applied), mid_batch (records
// applied to the batch in memory, not written), before_write, after_write (around the atomic
// WriteBatch of rows and positions).

#include <string_view>

namespace daybook::consumers {

void crash_point(std::string_view name);

}  // namespace daybook::consumers
