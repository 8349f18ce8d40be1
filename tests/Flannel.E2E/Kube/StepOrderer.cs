using Xunit.Abstractions;
using Xunit.Sdk;

namespace Flannel.E2E.Kube;

/// <summary>The step of a test in a class whose tests share one cluster and must run in order (node deletion is last).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class StepAttribute(int step) : Attribute
{
    public int Step { get; } = step;
}

/// <summary>Orders the test cases of a class by <see cref="StepAttribute"/>.</summary>
public sealed class StepOrderer : ITestCaseOrderer
{
    public const string Name = "Flannel.E2E.Kube.StepOrderer";
    public const string Assembly = "Flannel.E2E";

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases.OrderBy(t => t.TestMethod.Method.GetCustomAttributes(typeof(StepAttribute).AssemblyQualifiedName)
            .Select(a => a.GetNamedArgument<int>(nameof(StepAttribute.Step))).FirstOrDefault());
}
