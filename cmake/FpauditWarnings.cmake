# One place for the warning policy: every first-party target calls fpaudit_warnings().
#
# -ffp-contract=off: the compiler must never fuse a*b+c into an FMA on its own. Every rounding
# the chains perform is a rounding the theory counts, so fusion is written out (std::fma) where
# a kernel means it, and nowhere else. nvcc gets the same rule through -fmad=false.
function(fpaudit_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -ffp-contract=off>)
  if(FPAUDIT_WERROR)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
  endif()
endfunction()
