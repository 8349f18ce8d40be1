#!/usr/bin/env python3
"""Where the runnable time of a dotnet-trace thread-time profile went (bench/leases/RESULTS.md, "Profile").

Usage: speedscope-busy.py TRACE.speedscope.json [TOP] [FROM_S TO_S]
  (dotnet-trace collect -p PID; dotnet-trace convert TRACE.nettrace --format Speedscope)
Counts only samples whose leaf is CPU_TIME (the thread was in managed code, runnable; UNMANAGED_CODE_TIME = blocked),
prints the average number of runnable threads in the window, a category per sample (first namespace match in CATS
order), the top leaf and inclusive frames, and who waits on Monitor locks.
"""
import json,sys,collections,re
d=json.load(open(sys.argv[1]))
T0=float(sys.argv[3])*1000 if len(sys.argv)>3 else 0
T1=float(sys.argv[4])*1000 if len(sys.argv)>4 else 1e12
frames=[f['name'] for f in d['shared']['frames']]
WAIT=re.compile(r'Monitor\.Wait|WaitForSignal|WaitOneNoCheck|Thread\.Sleep|WaitNative|ManualResetEventSlim\.Wait|SpinWait|LowLevelSpinWaiter|EpollWait|epoll|WaitHandle|Semaphore|Interop\+Sys\.(Read|Poll|WaitForSocketEvents)|PollGCWorker|WaitSubsystem|Task\.SpinThenBlockingWait|Task\.Wait|Monitor\.Enter_Slowpath')
tot=0; busy=0
leaf=collections.Counter(); incl=collections.Counter(); cat=collections.Counter()
lock=collections.Counter()
CATS=[('DDataReplicator','DistributedData.Replicator'),('DData','Akka.DistributedData'),('Leases','Flannel.Actors'),
 ('ClusterHeartbeat','ClusterHeartbeat'),('ClusterGossip','Akka.Cluster.ClusterCoreDaemon'),('Cluster','Akka.Cluster'),
 ('Serialization','Serializ'),('Protobuf','Google.Protobuf'),('EndpointWriter','EndpointWriter'),('EndpointReader','EndpointReader'),('Remote','Akka.Remote'),
 ('DotNetty','DotNetty'),('Scheduler','Scheduler'),('Dispatch/Mailbox','Akka.Dispatch'),('Bench','Flannel.Bench'),('Akka.Actor','Akka.Actor'),('GC','GC'),]
def samples():
  for p in d['profiles']:
    st=[]; last=None
    for e in p['events']:
      t=e['at']
      if last is not None and st and t>last and T0<=last<T1: yield list(st), t-last
      last=t
      if e['type']=='O': st.append(e['frame'])
      else:
        if st: st.pop()
for s,w in samples():
    names=[frames[i] for i in s]
    tot+=w
    if names[-1]=='UNMANAGED_CODE_TIME':
      continue
    if names[-1]=='CPU_TIME': names=names[:-1]
    lf=names[-1]
    if WAIT.search(lf):
      if 'Enter_Slowpath' in lf:
        # who waits on lock: the nearest non-corelib frame
        for n in reversed(names[:-1]):
          if 'System.Private.CoreLib' not in n: lock[n[:140]]+=w; break
      continue
    busy+=w
    leaf[lf[:150]]+=w
    seen=set()
    for n in names:
      k=n[:150]
      if k not in seen: incl[k]+=w; seen.add(k)
    j=' '.join(names)
    for c,pat in CATS:
      if pat in j: cat[c]+=w; break
    else: cat['other']+=w
print('window',T0,T1,'wall s',(T1-T0)/1000,'runnable-thread s',busy/1000,'avg runnable threads %.1f'%(busy/(T1-T0)), 'busy%%=%.1f'%(100*busy/tot))
print('--categories (first match in stack order of list, busy samples)')
for c,w in cat.most_common(): print('%6.1f%% %s'%(100*w/busy,c))
print('--leaf'); [print('%6.1f%% %s'%(100*w/busy,n)) for n,w in leaf.most_common(25)]
print('--inclusive'); [print('%6.1f%% %s'%(100*w/busy,n)) for n,w in incl.most_common(int(sys.argv[2]) if len(sys.argv)>2 else 60)]
print('--lock waiters'); [print('%6.1f%% %s'%(100*w/tot,n)) for n,w in lock.most_common(10)]
