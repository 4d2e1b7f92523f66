// The command decoder: any bytes in daybook.commands are read without crashing, and what it reads
// survives the routing and domain decoding the processor does next.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "events/codec.h"
#include "events/ledger_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto read = daybook::events::read_command(std::string_view(reinterpret_cast<const char*>(data), size));
    if (!read.readable) return 0;
    (void)daybook::events::routing_key_of(read.envelope);
    if (auto cmd = daybook::events::ledger_command_of(read.envelope)) {
        daybook::v1::CommandEnvelope again;
        daybook::events::set_payload(again, *cmd);  // decode -> encode round trip
    }
    return 0;
}
