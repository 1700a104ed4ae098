// The measurement behind Stitch's Haswell-kernel sgemm driver (Sources/CGemm): for MLP-sized shapes, GFLOP/s of
// OpenBLAS's cblas_sgemm (whatever kernel it picked; OPENBLAS_CORETYPE to choose) against Stitch's driver over
// OpenBLAS's Haswell micro-kernel, both single-threaded, with the largest difference between their results;
// then which row splits of a driver product reproduce the whole product bit for bit.
// Build and run (benchmarks/RESULTS.md, "sgemm kernels"):
//   gcc -O2 -o /tmp/sgemm_driver_probe benchmarks/sgemm_driver_probe.c Sources/CGemm/gemm.c -ISources/CGemm/include
//       -Wl,--no-as-needed $(pkg-config --cflags --libs openblas) -ldl -lpthread -lm   (one line)
//   OPENBLAS_NUM_THREADS=1 taskset -c 0 /tmp/sgemm_driver_probe
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <time.h>
#include <string.h>
#include <cblas.h>
#include "stitch_gemm.h"
static int cmp(const void*x,const void*y){double a=*(const double*)x,b=*(const double*)y;return (a>b)-(a<b);}
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static void speeds(void){
  
  int shapes[][3]={{256,256,256},{256,256,23},{256,23,256},{23,256,256},{256,17,256},{256,256,6},{6,256,256},{256,6,256},{256,1,256},{1,256,256},{256,1024,1024},{1024,1024,256},{2048,2048,2048},{37,53,29},{1024,256,1024},{256,1024,42},{128,256,256}};
  int ns=sizeof shapes/sizeof shapes[0];
  for(int s=0;s<ns;s++) for(int ta=0;ta<2;ta++) for(int tb=0;tb<2;tb++){
    if(ta&&tb) continue;  // Stitch never asks for AᵀBᵀ
    int m=shapes[s][0],n=shapes[s][1],k=shapes[s][2];
    float*a=malloc(4L*m*k),*b=malloc(4L*k*n),*c1=malloc(4L*m*n),*c2=malloc(4L*m*n);
    for(long i=0;i<(long)m*k;i++)a[i]=(float)rand()/RAND_MAX-0.5f;
    for(long i=0;i<(long)k*n;i++)b[i]=(float)rand()/RAND_MAX-0.5f;
    for(long i=0;i<(long)m*n;i++)c1[i]=c2[i]=(float)rand()/RAND_MAX;
    int lda=ta?m:k, ldb=tb?k:n;
    float beta = (s%3==0)?0.0f:(s%3==1?1.0f:0.5f);
    cblas_sgemm(CblasRowMajor,ta?CblasTrans:CblasNoTrans,tb?CblasTrans:CblasNoTrans,m,n,k,1,a,lda,b,ldb,beta,c1,n);
    stitch_gemm_rowmajor(ta,tb,m,n,k,a,lda,b,ldb,beta,c2,n);
    double err=0; for(long i=0;i<(long)m*n;i++){double e=fabs(c1[i]-c2[i]); if(e>err)err=e;}
    // Seven alternating batches of about 0.1 s each side; the median batch of each (shared, noisy machines).
    double flop=2.0*m*n*k; int reps=(int)(1e10/flop)+1; if(reps>20000)reps=20000;
    double rate_o[7], rate_d[7];
    for(int round=0;round<7;round++){
      double t0=now(); for(int r=0;r<reps;r++) cblas_sgemm(CblasRowMajor,ta?CblasTrans:CblasNoTrans,tb?CblasTrans:CblasNoTrans,m,n,k,1,a,lda,b,ldb,0,c1,n);
      double t1=now(); for(int r=0;r<reps;r++) stitch_gemm_rowmajor(ta,tb,m,n,k,a,lda,b,ldb,0,c2,n);
      double t2=now();
      rate_o[round]=flop*reps/(t1-t0)/1e9; rate_d[round]=flop*reps/(t2-t1)/1e9;
    }
    qsort(rate_o,7,sizeof(double),cmp); qsort(rate_d,7,sizeof(double),cmp);
    printf("%c%c M%5d N%5d K%5d maxerr %.2e  openblas %6.1f  haswell-driver %6.1f GFLOP/s\n","NT"[ta],"NT"[tb],m,n,k,err,rate_o[3],rate_d[3]);
    free(a);free(b);free(c1);free(c2);
  }
}

static void splits(void) {
  int shapes[][3] = {{256, 256, 256}, {256, 1024, 1024}, {1024, 256, 1024}, {100, 300, 77}};
  for (int s = 0; s < 4; s++)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++) {
        int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *a = malloc(4L * m * k), *b = malloc(4L * k * n), *c1 = calloc((long)m * n, 4), *c2 = calloc((long)m * n, 4);
        for (long i = 0; i < (long)m * k; i++) a[i] = (float)rand() / RAND_MAX - 0.5f;
        for (long i = 0; i < (long)k * n; i++) b[i] = (float)rand() / RAND_MAX - 0.5f;
        int lda = ta ? m : k, ldb = tb ? k : n;
        stitch_gemm_rowmajor(ta, tb, m, n, k, a, lda, b, ldb, 0, c1, n);
        int same12 = 0, total12 = 0, sameOther = 0, totalOther = 0;
        for (int at = 4; at < m; at += 4) {
          stitch_gemm_rowmajor(ta, tb, at, n, k, a, lda, b, ldb, 0, c2, n);
          stitch_gemm_rowmajor(ta, tb, m - at, n, k, a + (ta ? at : (long)at * lda), lda, b, ldb, 0, c2 + (long)at * n, n);
          int same = memcmp(c1, c2, 4L * m * n) == 0;
          if (at % 12 == 0) { total12++; same12 += same; } else { totalOther++; sameOther += same; }
        }
        printf("row splits %c%c %dx%dx%d: bit-identical at %d/%d multiples of 12, %d/%d other multiples of 4\n",
               "NT"[ta], "NT"[tb], m, n, k, same12, total12, sameOther, totalOther);
        free(a); free(b); free(c1); free(c2);
      }
}

int main(void) {
  if (!stitch_gemm_available()) { printf("this OpenBLAS has no Haswell kernels\n"); return 1; }
  speeds();
  splits();
  return 0;
}
