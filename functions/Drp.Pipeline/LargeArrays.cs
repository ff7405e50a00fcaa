using System.Runtime.InteropServices;

namespace Drp.Pipeline;

/// <summary>
/// Allocation of full-frame arrays (tens of megabytes) whose every element the caller writes before reading. On
/// Linux the array's memory is advised for transparent huge pages before it is first touched: a 4k x 4k float plane
/// then faults in as 32 huge pages instead of 16,000 small ones, which on the virtual machines measured was about a
/// third of the cost of touching fresh memory (numpy advises its large allocations the same way). The advice is only
/// a hint: where it is not supported, or fails, nothing changes.
/// </summary>
internal static class LargeArrays
{
    private const int MadviseHugePage = 14; // MADV_HUGEPAGE
    private const long HugePageBytes = 2L << 20;

    private static bool s_adviceWorks = OperatingSystem.IsLinux();

    /// <summary>An array of <paramref name="length"/> elements, contents undefined.</summary>
    public static T[] AllocateUninitialized<T>(int length) where T : unmanaged
    {
        var array = GC.AllocateUninitializedArray<T>(length);
        long bytes = (long)length * Marshal.SizeOf<T>();
        if (s_adviceWorks && bytes >= 4 * HugePageBytes)
        {
            Advise(array, bytes);
        }
        return array;
    }

    private static void Advise<T>(T[] array, long bytes) where T : unmanaged
    {
        var handle = GCHandle.Alloc(array, GCHandleType.Pinned);
        try
        {
            long start = handle.AddrOfPinnedObject();
            // Whole huge pages inside the array only: the advice must not reach memory that is not ours.
            long first = (start + HugePageBytes - 1) & ~(HugePageBytes - 1);
            long end = (start + bytes) & ~(HugePageBytes - 1);
            if (end > first && Madvise((nint)first, (nuint)(end - first), MadviseHugePage) != 0)
            {
                s_adviceWorks = false;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_adviceWorks = false;
        }
        finally
        {
            handle.Free();
        }
    }

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(nint address, nuint length, int advice);
}
