using System.Collections.Concurrent;

namespace Drp.Pipeline.SingleFrame;

/// <summary>
/// Full-frame float planes of an exact length, kept for reuse between the stages of a frame (and across frames).
/// Touching fresh memory is a large part of a frame's cost (a 4k x 4k plane is 64 MB of first-touch page faults),
/// so a scratch plane one stage is done with is handed to the next instead of allocating another. Unlike
/// <see cref="System.Buffers.ArrayPool{T}"/>, the array has exactly the length asked for, so it can become an output
/// (a <see cref="Fits.FitsImage"/>'s pixels). At most one plane per length is kept, so in a frame's normal flow
/// (detections return the plane, the calexp's mask HDU keeps it) nothing stays pooled between frames.
/// </summary>
internal static class PlanePool
{
    private static readonly ConcurrentDictionary<int, ConcurrentBag<float[]>> s_planes = new();

    /// <summary>A plane of exactly <paramref name="length"/> values, contents undefined.</summary>
    public static float[] Rent(int length) =>
        s_planes.TryGetValue(length, out var bag) && bag.TryTake(out var plane)
            ? plane
            : LargeArrays.AllocateUninitialized<float>(length);

    /// <summary>Gives a plane back; the caller must not use it afterwards.</summary>
    public static void Return(float[] plane)
    {
        var bag = s_planes.GetOrAdd(plane.Length, _ => []);
        if (bag.IsEmpty)
        {
            bag.Add(plane);
        }
    }
}
