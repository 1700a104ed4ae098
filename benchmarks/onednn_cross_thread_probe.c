// A standalone probe (issue 25): does oneDNN 2.6's dnnl_sgemm on one thread change the bits of products on another?
// Thread B repeats small NT/TN products and compares each with its result before thread A starts looping a
// TN 256x256x2560 product. Build: gcc -O2 -o /tmp/onednn_cross_thread_probe benchmarks/onednn_cross_thread_probe.c -ldl -lpthread
// Result 2026-12-08 (Zen 5, oneDNN 2.6.3, OMP_NUM_THREADS=1): 0 of 200,000 differ for each of four shapes. (Written
// while a flaky two-lane test was blamed on oneDNN; the cause was OpenBLAS's thread count, benchmarks/RESULTS.md.)
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
typedef int (*dsg)(char,char,long long,long long,long long,float,const float*,long long,const float*,long long,float,float*,long long);
static dsg f; static volatile int stop;
static void* big(void* p){ float *a=malloc(4*256*2560),*b=malloc(4*256*2560),*c=malloc(4*256*256);
  for(int i=0;i<256*2560;i++){a[i]=(i%7)*0.1f;b[i]=(i%5)*0.1f;}
  long n=0; while(!stop){ f('T','N',256,256,2560,1,a,256,b,256,0,c,256); n++; } printf("big calls %ld\n",n); return 0; }
int main(int argc,char**argv){
  setenv("OMP_NUM_THREADS","1",0);
  void*d=dlopen("libdnnl.so.2",RTLD_NOW|RTLD_LOCAL); f=(dsg)dlsym(d,"dnnl_sgemm");
  int shapes[][4]={{'N'*0+0,64,128,3},{0,64,128,128},{1,128,128,64},{0,64,1,128}}; // kind: 0 NT, 1 TN
  for(int s=0;s<4;s++){
    int kind=shapes[s][0], m=shapes[s][1], n=shapes[s][2], k=shapes[s][3];
    float *a=malloc(4*m*k),*b=malloc(4*k*n),*ref=malloc(4*m*n),*c=malloc(4*m*n);
    for(int i=0;i<m*k;i++)a[i]=((i*37)%101)/101.f-0.5f; for(int i=0;i<k*n;i++)b[i]=((i*53)%97)/97.f-0.5f;
    #define RUN(out) (kind==0? f('N','T',m,n,k,1,a,k,b,k,0,out,n) : f('T','N',m,n,k,1,a,m,b,n,0,out,n))
    RUN(ref);
    stop=0; pthread_t t; pthread_create(&t,0,big,0);
    long diff=0, runs=0; for(int r=0;r<200000;r++){ RUN(c); runs++; if(memcmp(c,ref,4*m*n)) diff++; }
    stop=1; pthread_join(t,0);
    printf("%s %dx%dx%d: %ld of %ld differ while TN 256x256x2560 runs on another thread\n", kind?"TN":"NT", m,n,k, diff, runs);
  }
}
