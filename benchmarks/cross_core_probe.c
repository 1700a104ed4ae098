// How much more it costs a core to write memory whose cache lines another core wrote last (the hypothesis behind
// the two-lane TD3+BC profile, where the helper spent 4.8% of samples in OpenBLAS's beta = 0 memset against the
// caller's 1.0%). Thread A on core 0 writes a 128 KB buffer (half of a 256x256 float output) or does nothing;
// then thread B on core 1 zeroes it with memset, timed; 20,000 hand-offs each way.
//   gcc -O2 -o /tmp/cross_core_probe benchmarks/cross_core_probe.c -lpthread && /tmp/cross_core_probe
// Results: benchmarks/RESULTS.md ("Why the helper's half is slower").
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
enum { N = 128*256 };  // floats: 128 KB
static float *buf;
static atomic_int turn;  // 0: A writes, 1: B memsets
static int mode;  // 0: A writes then B memsets (cross), 1: B writes then B memsets (local)
static double tB; static int iters=20000;
static void pin(int c){cpu_set_t s;CPU_ZERO(&s);CPU_SET(c,&s);pthread_setaffinity_np(pthread_self(),sizeof s,&s);}
static void* A(void*x){pin(0);for(int i=0;i<iters;i++){while(atomic_load(&turn)!=0);if(mode==0)for(int j=0;j<N;j++)buf[j]=j*0.5f;atomic_store(&turn,1);}return 0;}
static void* B(void*x){pin(1);double t=0;for(int i=0;i<iters;i++){while(atomic_load(&turn)!=1);if(mode==1)for(int j=0;j<N;j++)buf[j]=j*0.5f;double t0=now();memset(buf,0,sizeof(float)*N);t+=now()-t0;atomic_store(&turn,0);}tB=t;return 0;}
int main(){buf=aligned_alloc(64,sizeof(float)*N);for(mode=0;mode<2;mode++){atomic_store(&turn,0);pthread_t a,b;pthread_create(&a,0,A,0);pthread_create(&b,0,B,0);pthread_join(a,0);pthread_join(b,0);printf("%s: memset of 128 KB takes %.2f us\n",mode==0?"lines last written by the other core":"lines last written by this core",tB/iters*1e6);}}
