# One INTERFACE target carries the warning flags; every Daybook library links it.
add_library(daybook_warnings INTERFACE)
add_library(daybook::warnings ALIAS daybook_warnings)
target_compile_options(daybook_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
  $<$<BOOL:${DAYBOOK_WERROR}>:-Werror>)
