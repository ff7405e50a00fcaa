namespace Drp.Execution;

/// <summary>The failures no retry can mend (a bad input, a bad config): the orchestrations' and the job runner's retry rules both ask here.</summary>
public static class PermanentErrors
{
    /// <summary>Exception types (exact names: a failure carries its concrete type) that mean the input is bad: retrying cannot help.</summary>
    private static readonly string[] s_permanent =
    [
        "Drp.Pipeline.Fits.FitsFormatException",
        "Drp.Pipeline.SingleFrame.IsrInputException",
        "Drp.Pipeline.Catalogs.ReferenceCatalogException",
        "Drp.Core.Planning.PipelineDefinitionException",
        "Drp.Storage.Datasets.DatasetNotFoundException",
        "Drp.Storage.Datasets.DatasetConflictException",
        "Drp.Storage.Catalogs.InvalidTableEntityException",
        "System.ArgumentException",
        "System.FormatException",
        "System.InvalidOperationException",
        "System.NotSupportedException",
    ];

    /// <summary>True for an exception type (its full name) that means the input is bad.</summary>
    public static bool IsPermanent(string? errorType) => errorType is not null && s_permanent.Contains(errorType, StringComparer.Ordinal);
}
