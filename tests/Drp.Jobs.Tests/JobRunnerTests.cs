using Drp.Storage.Registry;
using Microsoft.Extensions.Logging.Abstractions;
using static Drp.Jobs.Tests.TestJobs;

namespace Drp.Jobs.Tests;

public sealed class JobRunnerTests
{
    [Fact]
    public async Task Run_OneQuantumThrows_EveryOtherQuantumIsStillAttempted()
    {
        var runner = new JobRunner(Failing(() => new IOException("detector 1 is cursed"), 1), NullLogger<JobRunner>.Instance);

        var result = await runner.RunAsync(Job("run", "j1", 0, 1, 2, 3));

        Assert.Equal([0, 1, 2, 3], result.Quanta.Select(q => q.Detector()));
        Assert.Equal(QuantumState.Failed, result.Quanta[1].State);
        Assert.Equal(typeof(IOException).FullName, result.Quanta[1].ErrorClass);
        Assert.Equal(3, result.Quanta.Count(q => q.State == QuantumState.Succeeded));
    }
}
