using System.ComponentModel.DataAnnotations;
using Drp.Core.Planning;

namespace Drp.Execution.Jobs;

/// <summary>
/// The settings of container jobs, bound from <c>Drp:Jobs</c>, read by the dispatcher (the orchestrations' host) and
/// the job runner alike: which queue service carries the jobs (a Service Bus namespace or connection string selects
/// Azure Service Bus; otherwise Storage queues, Azurite locally), where completions go, and for a runner its memory
/// class (which names the queue it listens on) and how often it beats.
/// </summary>
public sealed class JobsOptions : IValidatableObject
{
    public const string SectionName = "Drp:Jobs";

    /// <summary>The one rule for job queue names, on Service Bus and on Storage alike (infra/app/servicebus.bicep matches it).</summary>
    public static string QueueName(MemoryClass memory) => "drp-jobs-" + memory.Name();

    /// <summary>The memory class this runner was sized for: <c>standard</c>, <c>highmem</c> or <c>extra-highmem</c>.</summary>
    [Required]
    public string MemoryClass { get; set; } = "standard";

    /// <summary>Queue every delivery's <see cref="JobCompletion"/> is sent to.</summary>
    [Required]
    public string CompletionsQueue { get; set; } = "drp-job-completions";

    /// <summary>Deliveries of one job message before the runner dead-letters it (the queue's maxDeliveryCount in Bicep).</summary>
    [Range(1, 100)]
    public int MaxDeliveryCount { get; set; } = 3;

    /// <summary>Heartbeat interval for jobs whose message carries none (planned jobs carry their task types' interval).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Fully qualified Service Bus namespace (<c>{name}.servicebus.windows.net</c>), reached with the managed identity.</summary>
    public string? ServiceBusNamespace { get; set; }

    /// <summary>A Service Bus connection string: local runs against a real namespace only (never set in Azure).</summary>
    public string? ServiceBusConnectionString { get; set; }

    /// <summary>Storage queues only: how long a received job stays invisible; the runner renews it at every heartbeat.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>True when the jobs come from Service Bus.</summary>
    public bool UsesServiceBus => !string.IsNullOrWhiteSpace(ServiceBusNamespace) || !string.IsNullOrWhiteSpace(ServiceBusConnectionString);

    /// <summary>The parsed <see cref="MemoryClass"/> (validated at start-up).</summary>
    public MemoryClass Memory => MemoryClasses.TryParse(MemoryClass, out var m) ? m
        : throw new InvalidOperationException($"Drp:Jobs:MemoryClass '{MemoryClass}' is not a memory class");

    /// <summary>The queue this runner listens on.</summary>
    public string Queue => QueueName(Memory);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!MemoryClasses.TryParse(MemoryClass, out _))
        {
            yield return new ValidationResult(
                $"Drp:Jobs:MemoryClass '{MemoryClass}' is not one of {string.Join(", ", MemoryClasses.All.Select(c => c.Name()))}", [nameof(MemoryClass)]);
        }
        if (!string.IsNullOrWhiteSpace(ServiceBusNamespace) && !string.IsNullOrWhiteSpace(ServiceBusConnectionString))
        {
            yield return new ValidationResult("set Drp:Jobs:ServiceBusNamespace (Azure) or Drp:Jobs:ServiceBusConnectionString (local), not both",
                [nameof(ServiceBusNamespace), nameof(ServiceBusConnectionString)]);
        }
    }
}
