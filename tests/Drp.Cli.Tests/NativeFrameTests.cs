namespace Drp.Cli.Tests;

/// <summary>
/// Publishes <c>drp-frame</c> (tools/Drp.Frame: <c>drp process-frame</c> compiled ahead of time to a native
/// executable) once, and holds it to the JIT-compiled command: the same bytes in every output, the same exit codes
/// and messages on bad input. Needs clang for the native link (.ci/run installs it).
/// </summary>
public sealed class NativeFrameFixture : IAsyncLifetime
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "drp-native-" + Guid.NewGuid().ToString("N")[..8]);

    public string Executable => Path.Combine(Directory, "bin", "drp-frame");

    public string PublishLog { get; private set; } = "";

    public async Task InitializeAsync()
    {
        string project = Path.Combine(RepositoryRoot(), "tools", "Drp.Frame", "Drp.Frame.csproj");
        var (exit, stdout, stderr) = await DrpProcess.RunAsync("dotnet",
            ["publish", project, "-c", "Release", "-o", Path.Combine(Directory, "bin"), "-nologo"], timeout: TimeSpan.FromMinutes(15));
        PublishLog = stdout + stderr;
        if (exit != 0 || !File.Exists(Executable))
        {
            throw new InvalidOperationException($"dotnet publish tools/Drp.Frame exited {exit} (the native link needs clang: apt-get install -y clang):\n{PublishLog}");
        }
    }

    public Task DisposeAsync()
    {
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        return Task.CompletedTask;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Serverless.Drp.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Serverless.Drp.sln not found above " + AppContext.BaseDirectory);
    }
}

public sealed class NativeFrameTests(NativeFrameFixture native) : IClassFixture<NativeFrameFixture>, IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drp-nf-" + Guid.NewGuid().ToString("N")[..8]);

    private SimulatedFrameFiles Frame => new(_dir);

    private string Raw => Frame.Raw;

    private string[] Arguments(string outDir, string? raw = null, string? refcat = null) => Frame.Arguments(outDir, raw: raw, refcat: refcat);

    private void Simulate() => Frame.Simulate();

    [Fact]
    public async Task NativeBuild_SimulatedFrame_WritesTheSameBytesAsProcessFrame()
    {
        Simulate();
        string jitOut = Path.Combine(_dir, "jit"), nativeOut = Path.Combine(_dir, "native");

        var jit = await DrpProcess.RunDrpAsync(Arguments(jitOut));
        var nat = await DrpProcess.RunAsync(native.Executable, Arguments(nativeOut));

        Assert.True(jit.Exit == 0, jit.Err + jit.Out);
        Assert.True(nat.Exit == 0, nat.Err + nat.Out);
        foreach (string file in new[] { "calexp.fits", "source.parquet", "source.csv", "ccdvisit.json" })
        {
            byte[] expected = File.ReadAllBytes(Path.Combine(jitOut, file));
            Assert.True(expected.Length > 0, file);
            Assert.True(expected.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(nativeOut, file))), $"{file} differs between drp process-frame and drp-frame");
        }
        // The summary line names the same sources, zero point and seeing (only the output folder differs).
        Assert.Equal(jit.Out.Split(" -> ")[0], nat.Out.Split(" -> ")[0]);
    }

    [Fact]
    public async Task NativeBuild_BadInputs_SameExitCodesAndMessagesAsProcessFrame()
    {
        Simulate();
        string truncated = Path.Combine(_dir, "truncated.fits");
        File.WriteAllBytes(truncated, File.ReadAllBytes(Raw)[..50_000]);
        string far = Path.Combine(_dir, "far_refcat.csv");
        File.WriteAllText(far, "ra,dec,g_mag\n10.0,20.0,18.0\n10.1,20.1,19.0\n");

        foreach (var (name, outName, expectedExit) in new (string, string?, int)[]
        {
            ("truncated raw", "t", 3),
            ("no reference objects", "u", 4),
            ("missing options", null, 2),
        })
        {
            string[] Args(string suffix) => outName is null ? ["process-frame", "--raw", Raw]
                : Arguments(Path.Combine(_dir, outName + suffix), raw: name == "truncated raw" ? truncated : null, refcat: name == "no reference objects" ? far : null);
            var jit = await DrpProcess.RunDrpAsync(Args("_jit"));
            var nat = await DrpProcess.RunAsync(native.Executable, Args("_native"));

            Assert.True(jit.Exit == expectedExit, $"{name}: drp exited {jit.Exit}: {jit.Err}");
            Assert.True(nat.Exit == expectedExit, $"{name}: drp-frame exited {nat.Exit}: {nat.Err}");
            Assert.Equal(jit.Err.Replace("_jit", ""), nat.Err.Replace("_native", ""));
        }
        // The unprocessable report is written the same way (source-generated JSON in both).
        string report = File.ReadAllText(Path.Combine(_dir, "u_jit", "unprocessable.json"));
        Assert.Contains("\"reason\"", report);
        Assert.Equal(report, File.ReadAllText(Path.Combine(_dir, "u_native", "unprocessable.json")));
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }
}
