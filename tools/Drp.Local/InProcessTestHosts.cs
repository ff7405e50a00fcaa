using System.Net;
using System.Net.Sockets;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Testing;

namespace Drp.Local;

/// <summary>
/// Starts the in-process Durable Task test host on a port that is free. Left to itself the host picks a random port in
/// 30000-40000 without checking it, so test assemblies running side by side (and Azurite) sometimes collide
/// ("address already in use"). Here the operating system hands out a free port, and a start that still loses the race
/// is retried on another one.
/// </summary>
public static class InProcessTestHosts
{
    private const int Attempts = 5;

    public static async Task<DurableTaskTestHost> StartAsync(Action<DurableTaskRegistry> configure, DurableTaskTestHostOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new DurableTaskTestHostOptions();
        for (int attempt = 1; ; attempt++)
        {
            options.Port = FreeLoopbackPort();
            try
            {
                return await DurableTaskTestHost.StartAsync(configure, options, cancellationToken);
            }
            catch (Exception e) when (attempt < Attempts && IsAddressInUse(e))
            {
                // another process took the port between our probe and the host's bind: try another
            }
        }
    }

    /// <summary>A loopback port the operating system reports free right now.</summary>
    public static int FreeLoopbackPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static bool IsAddressInUse(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
            {
                return true;
            }
        }
        return false;
    }
}
