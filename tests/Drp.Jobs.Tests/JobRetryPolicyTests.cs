using Drp.Storage.Registry;
using Drp.Workflows;
using Drp.Core.Planning;

namespace Drp.Jobs.Tests;

/// <summary>The retry rules as pure functions: failure kind + memory class + delivery -> decision.</summary>
public sealed class JobRetryPolicyTests
{
    private static readonly JobRetryPolicy Policy = new(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));

    [Theory]
    [InlineData(MemoryClass.Standard, MemoryClass.Highmem)]
    [InlineData(MemoryClass.Highmem, MemoryClass.ExtraHighmem)]
    public void Decide_OutOfMemory_RetriesInTheNextMemoryClass(MemoryClass current, MemoryClass next)
    {
        var d = Policy.Decide(FailureKind.OutOfMemory, current, delivery: 1, maxDeliveries: 3);

        Assert.Equal(RetryAction.NextClass, d.Action);
        Assert.Equal(next, d.MemoryClass);
    }

    [Fact]
    public void Decide_OutOfMemoryInTheLargestClass_GivesUp()
    {
        var d = Policy.Decide(FailureKind.OutOfMemory, MemoryClass.ExtraHighmem, delivery: 1, maxDeliveries: 3);

        Assert.Equal(RetryAction.GiveUp, d.Action);
        Assert.Contains("extra-highmem", d.Reason);
    }

    [Fact]
    public void Decide_OutOfMemoryOnTheLastDelivery_StillEscalates()
    {
        // A new class is a new queue and a new message: the deliveries of the old one do not count against it.
        var d = Policy.Decide(FailureKind.OutOfMemory, MemoryClass.Standard, delivery: 3, maxDeliveries: 3);

        Assert.Equal(RetryAction.NextClass, d.Action);
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    [InlineData(3, 8)]
    [InlineData(4, 10)] // capped
    public void Decide_Transient_RetriesInTheSameClassWithExponentialBackoff(int delivery, int backoffSeconds)
    {
        var d = Policy.Decide(FailureKind.Transient, MemoryClass.Highmem, delivery, maxDeliveries: 5);

        Assert.Equal(RetryAction.SameClass, d.Action);
        Assert.Equal(MemoryClass.Highmem, d.MemoryClass);
        Assert.Equal(TimeSpan.FromSeconds(backoffSeconds), d.Backoff);
    }

    [Fact]
    public void Decide_TransientOnTheLastDelivery_GivesUp()
    {
        var d = Policy.Decide(FailureKind.Transient, MemoryClass.Standard, delivery: 3, maxDeliveries: 3);

        Assert.Equal(RetryAction.GiveUp, d.Action);
        Assert.Contains("delivery 3 of 3", d.Reason);
    }

    [Theory]
    [InlineData(MemoryClass.Standard, 1)]
    [InlineData(MemoryClass.ExtraHighmem, 5)]
    public void Decide_Unprocessable_IsNeverRetried(MemoryClass current, int delivery)
    {
        var d = Policy.Decide(FailureKind.Unprocessable, current, delivery, maxDeliveries: 3);

        Assert.Equal(RetryAction.Never, d.Action);
    }

    [Fact]
    public void Decide_LostHeartbeat_RetriesAtOnceInTheSameClassUntilTheLastDelivery()
    {
        var retry = Policy.Decide(FailureKind.LostHeartbeat, MemoryClass.Standard, delivery: 1, maxDeliveries: 2);
        var last = Policy.Decide(FailureKind.LostHeartbeat, MemoryClass.Standard, delivery: 2, maxDeliveries: 2);

        Assert.Equal(new RetryDecision(RetryAction.SameClass, MemoryClass.Standard, TimeSpan.Zero, retry.Reason), retry);
        Assert.Equal(RetryAction.GiveUp, last.Action);
    }

    private static QuantumResult R(int detector, QuantumState state, string? errorClass = null) =>
        new("processFrame", new Drp.Core.Datasets.DataId("LSSTCam", 7, detector, Band: "r"), state, 1, 0, errorClass, null, false, 0);

    [Fact]
    public void Classify_NothingFailed_IsNoFailureEvenWithUnprocessableQuanta()
    {
        Assert.Null(JobRetryPolicy.Classify([R(0, QuantumState.Succeeded), R(1, QuantumState.Unprocessable, "Unprocessable")]));
    }

    [Fact]
    public void Classify_AnyOutOfMemory_IsOutOfMemory()
    {
        var kind = JobRetryPolicy.Classify([R(0, QuantumState.Failed, typeof(IOException).FullName), R(1, QuantumState.Failed, typeof(OutOfMemoryException).FullName)]);

        Assert.Equal(FailureKind.OutOfMemory, kind);
    }

    [Fact]
    public void Classify_OnlyPermanentErrorTypes_IsUnprocessable()
    {
        var kind = JobRetryPolicy.Classify([R(0, QuantumState.Failed, "Drp.Pipeline.SingleFrame.IsrInputException"), R(1, QuantumState.Succeeded)]);

        Assert.Equal(FailureKind.Unprocessable, kind);
    }

    [Fact]
    public void Classify_APermanentAndATransientFailure_IsTransient()
    {
        var kind = JobRetryPolicy.Classify([R(0, QuantumState.Failed, "Drp.Pipeline.SingleFrame.IsrInputException"), R(1, QuantumState.Failed, typeof(TimeoutException).FullName)]);

        Assert.Equal(FailureKind.Transient, kind);
    }

    [Theory]
    [InlineData("standard", MemoryClass.Standard)]
    [InlineData("highmem", MemoryClass.Highmem)]
    [InlineData("extra-highmem", MemoryClass.ExtraHighmem)]
    public void MemoryClassName_RoundTripsAndNamesTheQueue(string name, MemoryClass memory)
    {
        Assert.True(MemoryClasses.TryParse(name, out var parsed));
        Assert.Equal(memory, parsed);
        Assert.Equal("drp-jobs-" + name, JobsOptions.QueueName(memory));
    }

    [Fact]
    public void JobsOptions_UnknownMemoryClass_IsAValidationError()
    {
        var options = new JobsOptions { MemoryClass = "huge" };

        var problems = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).ToList();

        Assert.Contains(problems, p => p.ErrorMessage!.Contains("'huge' is not one of standard, highmem, extra-highmem"));
    }
}
