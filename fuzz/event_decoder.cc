// The event envelope decoder: a sealed record of daybook.events (framing, hash fields, envelope)
// is read or refused without crashing; a readable one decodes to a domain event or none.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "events/codec.h"
#include "events/ledger_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    auto rec = daybook::events::read_sealed(data[0] % 4, std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
    if (!rec) return 0;
    (void)daybook::events::event_type(rec->envelope);
    (void)daybook::events::ledger_event_of(rec->envelope);
    return 0;
}
