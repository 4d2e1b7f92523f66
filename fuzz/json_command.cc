// The JSON command parser of the CLI and the HTTP API (protobuf's JSON mapping into a command
// envelope), then the binary round trip the gateway does before producing.
#include <google/protobuf/util/json_util.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "events/codec.h"
#include "events/ledger_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    daybook::v1::CommandEnvelope c;
    google::protobuf::util::JsonParseOptions opts;
    opts.ignore_unknown_fields = false;
    if (!google::protobuf::util::JsonStringToMessage(std::string(reinterpret_cast<const char*>(data), size), &c, opts).ok())
        return 0;
    auto bytes = daybook::events::serialize(c);
    auto read = daybook::events::read_command(bytes);
    if (read.readable) (void)daybook::events::ledger_command_of(read.envelope);
    return 0;
}
