using Microsoft.DurableTask;

namespace Drp.Workflows;

/// <summary>Retry options shared by the orchestrators: transient faults only, bounded attempts, exponential backoff.</summary>
public static class RetryPolicies
{

    public static TaskOptions Transient { get; } = TaskOptions.FromRetryPolicy(new RetryPolicy(
        maxNumberOfAttempts: 3,
        firstRetryInterval: TimeSpan.FromSeconds(1),
        backoffCoefficient: 2.0,
        maxRetryInterval: TimeSpan.FromSeconds(30))
    {
        HandleFailure = failure => !IsPermanent(failure),
    });

    /// <summary>True when an error type (a full type name) says the input itself is bad.</summary>
    public static bool IsPermanentErrorType(string? errorType) => Execution.PermanentErrors.IsPermanent(errorType);

    /// <summary>True when the failure (or one it wraps) is of a type that says the input itself is bad.</summary>
    public static bool IsPermanent(TaskFailureDetails? failure)
    {
        for (var f = failure; f is not null; f = f.InnerFailure)
        {
            if (IsPermanentErrorType(f.ErrorType))
            {
                return true;
            }
        }
        return false;
    }
}
