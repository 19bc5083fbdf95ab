/* clang_compat.h - force-included into src/core/kernels.c for the fuzz
 * build only. clang 14's __builtin_cpu_supports does not know "f16c" (gcc's
 * does), so that one feature is read with cpuid instead. */
#if defined(__clang__) && __clang_major__ < 15
#include <cpuid.h>
#include <string.h>
static inline int tp_fuzz_cpu_supports(const char *feature)
{
    if (strcmp(feature, "avx2") == 0)
        return __builtin_cpu_supports("avx2");
    if (strcmp(feature, "fma") == 0)
        return __builtin_cpu_supports("fma");
    unsigned a, b, c, d;
    return strcmp(feature, "f16c") == 0 && __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
}
#define __builtin_cpu_supports(feature) tp_fuzz_cpu_supports(feature)
#endif
