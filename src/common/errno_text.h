// errno as text, without the thread-unsafe strerror().
#pragma once

#include <string>

namespace airlock {

std::string errno_text(int errnum);

}  // namespace airlock
